"""PDPA rights: a customer's data exported (`export`) and erased (`service`, with the gateway's own
copy erased by `scrub`, each capability erasing its part); every service's progress on an erasure
is followed through `handlers`."""
