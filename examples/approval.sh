#!/bin/sh
# approval.sh: a deploy that waits for a person (or a webhook) to approve
# it.  The approval is a `future` task: nothing runs it; it is pending
# until `futurectl resolve` completes it, or `futurectl reject` refuses it
# (the deploy then fails with DependencyFailed, never running), or its
# timeout passes.  All of it is in futured's store: the approval can come
# a day later, after restarts of futured or of this script.
#
#   ./examples/approval.sh              # submits, prints how to approve
#   futurectl resolve ID '{"approved_by": "ana"}'
#   ./examples/approval.sh --approve    # the same, approved at once (CI)
#
# FUTURECTL names the futurectl to use (default: the one on PATH).
set -eu
ctl=${FUTURECTL:-futurectl}

ok=$($ctl submit --timeout 86400 --label flow=approval future)
deploy=$($ctl submit --after "$ok" --label flow=approval --env BUILD=42 \
    --shell 'echo "deploying build $BUILD"')
echo "approval: task $ok; deploy: task $deploy, waiting for it"

if [ "${1:-}" != --approve ]; then
	echo "approve:  $ctl resolve $ok '{\"approved_by\": \"$(id -un)\"}'"
	echo "refuse:   $ctl reject $ok Refused 'not today'"
	exit 0
fi
$ctl resolve "$ok" '{"approved_by": "ci"}'
echo "approved by: $($ctl --json result "$ok")"
$ctl result --wait "$deploy"
