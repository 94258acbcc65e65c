/*
 * fuzz-methods.h: what the fuzzers share.  Each method's parameters are
 * checked the way its handler in daemon/rpc-*.c checks them, with the
 * proto/ validators and the daemon's default limits, and a JSON value's
 * text is compared with jansson's.
 */
#ifndef FUTURED_FUZZ_METHODS_H
#define FUTURED_FUZZ_METHODS_H

#include "proto.h"

#define FUZZ_MAX_WAIT	60.0	/* --max-wait's default */

/*
 * Checks params (an object) as the handler of method would.  Returns 0
 * with the call's result appended to result (a submission: its task
 * object), -1 with inv filled when the params are refused, -2 when no
 * handler serves method.
 */
int	 fuzz_method_check(const char *method, json_t *params,
	    struct fp_invalid *inv, struct fp_text *result);

/*
 * Does a key under v hold U+FFFF, the mark fp_body_parse writes for NUL
 * in a key?  At any depth, unlike fp_nul_key_check.
 */
int	 fuzz_nul_mark(json_t *v);

/* Aborts unless fp_text_json writes v as json_dumps does (proto.h). */
void	 fuzz_text_like_jansson(json_t *v);

/* Aborts with the message, for a property the fuzzer broke. */
__attribute__((noreturn, format(printf, 1, 2)))
void	 fuzz_fail(const char *, ...);

#endif
