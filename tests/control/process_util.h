// Moved to tests/support/child_process.h (the one child-process helper); this forwarder stays
// until no branch in flight includes the old name.
#pragma once

#include "support/child_process.h"
