from django.apps import AppConfig


class WebConfig(AppConfig):
    name = "klimainnkjop.web"
    label = "web"
