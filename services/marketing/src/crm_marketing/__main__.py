from crm_servicekit.runtime import run_cli

from .app import build, create_app
from .config import MarketingSettings

if __name__ == "__main__":
    settings = MarketingSettings()
    run_cli(
        package="crm_marketing",
        settings=settings,
        create_app=lambda: create_app(settings),
        build=lambda: build(settings),
    )
