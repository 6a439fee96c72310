"""Salesforce and HubSpot: mapping, import, write-back and the blueprint of the fields."""
