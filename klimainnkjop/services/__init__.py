"""Every write of the application: do_<verb>_<noun>(..., *, actor). Each records an audit entry."""
