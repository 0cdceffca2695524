package harness

import (
	"context"
	"time"

	"github.com/onsi/ginkgo/v2"

	"github.com/pgwire-conformance/pgwire-conformance/target"
)

// On a target whose clients share one backend session (PGlite), what one
// spec leaves in that session (a driver's named prepared statements, a
// setting, an open transaction) is the next spec's, and specs running at
// once stall each other. Such a target's specs therefore run one at a
// time (Serial, also under -p), each from a reset session, so a verdict
// depends on what the spec itself did, never on which spec ran before or
// beside it. Divergences within a spec (two connections of one driver
// colliding on a statement name) still show and are listed.

// sessionResetBound bounds the reset: on a shared session it waits for any
// transaction an earlier spec left open, which is a harness error.
const sessionResetBound = 30 * time.Second

// branchDecorators are the decorators of one branch of the tree: its labels,
// and Serial on a target that shares one session.
func branchDecorators(labels ginkgo.Labels) []any {
	d := []any{labels}
	if target.SharesOneSession(Config().TargetName()) {
		d = append(d, ginkgo.Serial)
	}
	return d
}

// resetSharedSession registers, inside a branch, the reset of the shared
// session before each spec (a no-op on other targets).
func resetSharedSession() {
	if !target.SharesOneSession(Config().TargetName()) {
		return
	}
	ginkgo.BeforeEach(func(ctx ginkgo.SpecContext) {
		ctx2, cancel := context.WithTimeout(ctx, sessionResetBound)
		defer cancel()
		o, err := DialObserver(ctx2, Target().DSN, Profile())
		if err != nil {
			HarnessFail("reset the %s target's shared session: connect: %v", Config().TargetName(), err)
		}
		defer o.Close(context.WithoutCancel(ctx))
		if err := o.TryExec(ctx2, target.SessionResetSQL); err != nil {
			HarnessFail("reset the %s target's shared session (%s) before the spec: %v", Config().TargetName(), target.SessionResetSQL, err)
		}
	}, ginkgo.NodeTimeout(sessionResetBound+5*time.Second))
}
