/* SPDX-License-Identifier: GPL-2.0 OR Apache-2.0 */
/* The drift-control decision, shared by every mechanism: the BPF LSM program and the exec-kill program include it
 * in the kernel, the host build compiles it so the user-space tests check the very same code against the Rust
 * `drift::decide` that the fanotify listener uses. Pure: no kernel or libc types. */
#pragma once

/* What is known about one exec. */
#define DRIFT_FACT_UPPER (1u << 0)    /* the executable lives on (or was copied up to) the overlay upper layer */
#define DRIFT_FACT_MEMFD (1u << 1)    /* the executable is a memfd (fileless exec) */
#define DRIFT_FACT_IN_SCOPE (1u << 2) /* the exec'ing task runs in a container drift control covers */
#define DRIFT_FACT_ALLOWED (1u << 3)  /* the executable is on the allow-list */

/* The policy of the container the exec happens in. */
#define DRIFT_POLICY_DETECT_UPPER (1u << 0)
#define DRIFT_POLICY_BLOCK_UPPER (1u << 1)
#define DRIFT_POLICY_DETECT_MEMFD (1u << 2)
#define DRIFT_POLICY_BLOCK_MEMFD (1u << 3)

#define DRIFT_ALLOW 0u
#define DRIFT_ALERT 1u
#define DRIFT_BLOCK 2u

static inline unsigned int drift_decide(unsigned int facts, unsigned int policy)
{
	unsigned int verdict = DRIFT_ALLOW;

	if (!(facts & DRIFT_FACT_IN_SCOPE) || (facts & DRIFT_FACT_ALLOWED))
		return DRIFT_ALLOW;
	if (facts & DRIFT_FACT_UPPER) {
		if (policy & DRIFT_POLICY_BLOCK_UPPER)
			return DRIFT_BLOCK;
		if (policy & DRIFT_POLICY_DETECT_UPPER)
			verdict = DRIFT_ALERT;
	}
	if (facts & DRIFT_FACT_MEMFD) {
		if (policy & DRIFT_POLICY_BLOCK_MEMFD)
			return DRIFT_BLOCK;
		if (policy & DRIFT_POLICY_DETECT_MEMFD)
			verdict = DRIFT_ALERT;
	}
	return verdict;
}
