from crm_servicekit.runtime import run_cli

from .app import build, create_app
from .config import MarketingSettings

if __name__ == "__main__":
    run_cli("crm_marketing", MarketingSettings(), create_app, build)
