/* SPDX-License-Identifier: GPL-2.0 OR Apache-2.0 */
/* Host build of the kernel-side drift decision, linked into the crate's tests only. */
#include "drift_decide.h"

unsigned int mamoru_drift_decide_c(unsigned int facts, unsigned int policy)
{
	return drift_decide(facts, policy);
}
