package report

import "strings"

// ServerAdapter is the adapter name of server-level specs (harness.ForTarget:
// the message-level wire specs). They certify the target, not a driver.
const ServerAdapter = "server"

// Ref names one adapter on one target; Target is "" in a report of one
// target.
type Ref struct{ Adapter, Target string }

func (a Ref) String() string {
	if a.Target == "" {
		return a.Adapter
	}
	return a.Adapter + " @ " + a.Target
}

// MultiTarget reports whether the run merges results of several targets.
func (r Run) MultiTarget() bool { return len(r.Targets) > 1 }

// targetNames are the run's targets as Spec.Target names them: one "" for
// a run of one target.
func (r Run) targetNames() []string {
	if !r.MultiTarget() {
		return []string{""}
	}
	out := make([]string, len(r.Targets))
	for i, t := range r.Targets {
		out[i] = t.Name
	}
	return out
}

// subjects are the adapters the report judges: each adapter of the run (on
// each target that ran it, in a merge across targets), never the server.
func (r Run) subjects() []Ref {
	ran := map[Ref]bool{}
	for _, s := range r.Specs {
		ran[Ref{s.Adapter, s.Target}] = true
	}
	var out []Ref
	for _, t := range r.targetNames() {
		for _, a := range r.Adapters {
			ref := Ref{a.Name, t}
			if a.Name == ServerAdapter || (t != "" && !ran[ref]) {
				continue
			}
			out = append(out, ref)
		}
	}
	return out
}

// specsOf are the spec results of one adapter on one target.
func (r Run) specsOf(ref Ref) []Spec {
	var out []Spec
	for _, s := range r.Specs {
		if s.Adapter == ref.Adapter && s.Target == ref.Target {
			out = append(out, s)
		}
	}
	return out
}

// onTarget is the run restricted to one target's results (the run itself
// for a run of one target).
func (r Run) onTarget(name string) Run {
	if !r.MultiTarget() {
		return r
	}
	out := r
	out.Targets, out.Specs = nil, nil
	for _, t := range r.Targets {
		if t.Name == name {
			out.Target = t
		}
	}
	for _, s := range r.Specs {
		if s.Target == name {
			s.Target = ""
			out.Specs = append(out.Specs, s)
		}
	}
	return out
}

// TargetName is how reports name a target: its Name, else its profile.
func (t Target) TargetName() string {
	if t.Name != "" {
		return t.Name
	}
	if t.Profile != "" {
		return t.Profile
	}
	return "target"
}

// shortVersion is the server's product and version ("PostgreSQL 17.12"),
// for telling targets of the same name apart.
func shortVersion(v string) string {
	f := strings.Fields(v)
	if len(f) > 2 {
		f = f[:2]
	}
	return strings.Join(f, " ")
}
