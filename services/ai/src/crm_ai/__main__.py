from crm_servicekit.runtime import run_cli

from .app import build, create_app
from .config import AiSettings

if __name__ == "__main__":
    settings = AiSettings()
    run_cli(
        package="crm_ai",
        settings=settings,
        create_app=lambda: create_app(settings),
        build=lambda: build(settings),
    )
