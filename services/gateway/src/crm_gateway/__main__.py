from crm_servicekit.runtime import run_cli

from .app import build, create_app
from .config import GatewaySettings

if __name__ == "__main__":
    settings = GatewaySettings()
    run_cli(
        package="crm_gateway",
        settings=settings,
        create_app=lambda: create_app(settings),
        build=lambda: build(settings),
    )
