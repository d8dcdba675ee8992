//! pc-fake at partner scale: many customers, a partner-wide request budget.
