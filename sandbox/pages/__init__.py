"""Hosted pages: the cashiers and scan pages a buyer's browser sees, one blueprint per gateway."""
