from django.apps import AppConfig


class StorageConfig(AppConfig):
    name = "klimainnkjop.storage"
    label = "klimainnkjop"
    verbose_name = "Klimainnkjøp"
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self) -> None:
        from klimainnkjop.auth import signals  # noqa: F401 - sign-ins, sign-outs and failures to the audit log
