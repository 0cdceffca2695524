package catalogue

import (
	"fmt"
	"strings"
	"testing"
)

func TestCheck(t *testing.T) {
	tests := []struct {
		name string
		ids  []string
		want []string // substrings of the error; nil: accepted
	}{
		{"functional", []string{"FR-001"}, nil},
		{"edge case", []string{"EC-3"}, nil},
		{"suite addition", []string{"COMPAT"}, nil},
		{"requirement with tasks", []string{"FR-007", "T006", "T017"}, nil},
		{"tasks then edge case", []string{"T029", "EC-1"}, nil},
		{"nil", nil, []string{"no requirement IDs"}},
		{"empty", []string{}, []string{"no requirement IDs"}},
		{"unknown", []string{"FR-999"}, []string{"unknown requirement ID", "FR-999"}},
		{"unknown among known", []string{"FR-001", "fr-002", "T099"}, []string{"unknown requirement ID", "T099, fr-002"}},
		{"empty string", []string{""}, []string{"unknown requirement ID"}},
		{"tasks only", []string{"T004", "T018"}, []string{"only tasks", "T004, T018"}},
		{"one task", []string{"T033"}, []string{"only tasks", "T033"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := Check(tt.ids)
			if tt.want == nil {
				if err != nil {
					t.Errorf("Check(%q) = %v, want nil", tt.ids, err)
				}
				return
			}
			if err == nil {
				t.Fatalf("Check(%q) accepted", tt.ids)
			}
			for _, w := range tt.want {
				if !strings.Contains(err.Error(), w) {
					t.Errorf("Check(%q) = %q, want it to contain %q", tt.ids, err, w)
				}
			}
		})
	}
}

func TestSeedIDsExist(t *testing.T) {
	var want []string
	for i := 1; i <= 14; i++ {
		want = append(want, fmt.Sprintf("FR-%03d", i))
	}
	for i := 1; i <= 5; i++ {
		want = append(want, fmt.Sprintf("EC-%d", i))
	}
	for _, id := range want {
		e, ok := Lookup(id)
		if !ok {
			t.Errorf("%s is missing", id)
			continue
		}
		wantKind := Functional
		if strings.HasPrefix(id, "EC-") {
			wantKind = EdgeCase
		}
		if e.Kind != wantKind {
			t.Errorf("%s has kind %q, want %q", id, e.Kind, wantKind)
		}
		if e.Title == "" {
			t.Errorf("%s has no title", id)
		}
		if err := Check([]string{id}); err != nil {
			t.Errorf("Check(%s) = %v", id, err)
		}
	}
	for i := 1; i <= 33; i++ {
		id := fmt.Sprintf("T%03d", i)
		if e, ok := Lookup(id); !ok || e.Kind != Task {
			t.Errorf("task %s missing or not a task (%+v)", id, e)
		}
	}
}

func TestTracedTasksExist(t *testing.T) {
	for _, e := range All() {
		if e.Kind == Task && len(e.Tasks) > 0 {
			t.Errorf("task %s itself traces to tasks %q", e.ID, e.Tasks)
		}
		for _, id := range e.Tasks {
			te, ok := Lookup(id)
			if !ok {
				t.Errorf("%s traces to unknown %s", e.ID, id)
				continue
			}
			if te.Kind != Task {
				t.Errorf("%s traces to %s, a %s, not a task", e.ID, id, te.Kind)
			}
		}
	}
}

func TestIDsUnique(t *testing.T) {
	seen := map[string]bool{}
	for _, e := range All() {
		if seen[e.ID] {
			t.Errorf("%s listed twice", e.ID)
		}
		seen[e.ID] = true
	}
}

func TestCertifiedAndOfKind(t *testing.T) {
	all := All()
	cert := Certified()
	tasks := OfKind(Task)
	if len(cert)+len(tasks) != len(all) {
		t.Errorf("Certified (%d) + tasks (%d) != all (%d)", len(cert), len(tasks), len(all))
	}
	for _, e := range cert {
		if e.Kind == Task {
			t.Errorf("Certified includes task %s", e.ID)
		}
	}
	if n := len(OfKind(Functional)); n != 14 {
		t.Errorf("%d functional requirements, want 14", n)
	}
	if n := len(OfKind(EdgeCase)); n != 5 {
		t.Errorf("%d edge cases, want 5", n)
	}
	if n := len(tasks); n != 33 {
		t.Errorf("%d tasks, want 33", n)
	}
	if cert[0].ID != "FR-001" {
		t.Errorf("Certified starts with %s, want FR-001 (catalogue order)", cert[0].ID)
	}
}

func TestAllReturnsACopy(t *testing.T) {
	a := All()
	a[0].ID = "changed"
	if _, ok := Lookup("FR-001"); !ok || All()[0].ID != "FR-001" {
		t.Error("changing All's result changed the catalogue")
	}
}

func TestLabelsRoundTrip(t *testing.T) {
	ids := []string{"FR-001", "EC-2", "T004", "COMPAT", "NOPE"}
	labels := Labels(ids)
	want := []string{"fr:FR-001", "ec:EC-2", "task:T004", "req:COMPAT", "req:NOPE"}
	if fmt.Sprint(labels) != fmt.Sprint(want) {
		t.Fatalf("Labels(%v) = %v, want %v", ids, labels, want)
	}
	back := IDsFromLabels(append([]string{"adapter:pgx", "compat"}, labels...))
	if fmt.Sprint(back) != fmt.Sprint(ids) {
		t.Fatalf("IDsFromLabels = %v, want %v", back, ids)
	}
}
