"""Agendas built for an occurrence from risk and referral data, plus hand-made items;
minutes and decisions per item."""
