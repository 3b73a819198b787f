"""The marketing plan: personas, strategy (attractiveness, targeting, positioning), goals and KPIs,
versioned in the operational database."""
