"""Django authentication backends: passwords with a lockout, and OpenID Connect (when configured).

The rules they apply live in klimainnkjop.services.auth.
"""
