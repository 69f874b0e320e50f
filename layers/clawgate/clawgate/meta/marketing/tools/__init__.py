"""The ads tools (risk `ads`: offered on operator channels only, re-checked on every call). Importing this package
registers them."""

import clawgate.meta.marketing.tools.create
import clawgate.meta.marketing.tools.read
import clawgate.meta.marketing.tools.setup
import clawgate.meta.marketing.tools.write  # noqa: F401
