from django.apps import AppConfig


class StorageConfig(AppConfig):
    name = "klimainnkjop.storage"
    label = "klimainnkjop"
    verbose_name = "Klimainnkjøp"
    default_auto_field = "django.db.models.BigAutoField"
