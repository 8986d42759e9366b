from crm_servicekit.runtime import run_cli

from .app import build, create_app
from .config import MessengerSettings

if __name__ == "__main__":
    settings = MessengerSettings()
    run_cli(
        package="crm_messenger",
        settings=settings,
        create_app=lambda: create_app(settings),
        build=lambda: build(settings)[0],
    )
