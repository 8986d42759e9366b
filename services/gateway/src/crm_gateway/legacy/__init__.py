"""Bring the old system's data into the gateway: `python -m crm_gateway.legacy <folder> ...`.

`mapping` and `products` read one old record (pure); `importer` and `catalog_import` write it,
one transaction per file, row or product, through the capabilities that own the rows
(`customers.imports`, `catalog.service`, `audit.service`); `report` says what happened to each.
"""
