"""The access states an issue can have (a light module: the CLI imports it without the adapters)."""

FREE, PAID_PREVIEW, PAID_FULL, LOGIN_WALL, REFUSED = "free", "paid_preview", "paid_full", "login_wall", "refused"
ACCESS = (FREE, PAID_PREVIEW, PAID_FULL, LOGIN_WALL, REFUSED)
