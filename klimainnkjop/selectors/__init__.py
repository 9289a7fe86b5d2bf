"""Every read of application data and engine results. Each selector takes an access.Scope."""
