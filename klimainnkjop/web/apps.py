from django.apps import AppConfig


class WebConfig(AppConfig):
    name = "klimainnkjop.web"
    label = "web"

    def ready(self) -> None:
        # a face's concern, registered by the face (web is installed wherever storage is: settings.INSTALLED_APPS)
        from klimainnkjop.auth import signals  # noqa: F401 - sign-ins, sign-outs and failures to the audit log
        from klimainnkjop.services import autocompute  # noqa: F401 - a committed change of the data queues a compute
