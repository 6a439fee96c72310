"""Salesforce and HubSpot: mapping, import, write-back, blueprint."""
