package protocol

import "testing"

// The streaming-memory spec judges a backend's heap when it reports one
// (before and after), else its resident set.
func TestMemoryGrowth(t *testing.T) {
	rss := MemoryResult{RSSBytes: 100 << 20, PeakRSSBytes: 150 << 20}
	if g, what := rss.Growth(MemoryResult{RSSBytes: 120 << 20}); g != 30<<20 || what != "peak resident memory" {
		t.Errorf("resident growth %d %q", g, what)
	}
	heap := MemoryResult{RSSBytes: 200 << 20, PeakRSSBytes: 240 << 20, HeapBytes: 30 << 20, PeakHeapBytes: 38 << 20}
	if g, what := heap.Growth(MemoryResult{RSSBytes: 200 << 20, HeapBytes: 30 << 20}); g != 8<<20 || what != "peak heap in use" {
		t.Errorf("heap growth %d %q", g, what)
	}
	// A heap reported only after is no heap figure.
	if _, what := heap.Growth(MemoryResult{RSSBytes: 200 << 20}); what != "peak resident memory" {
		t.Errorf("heap used without a heap baseline: %q", what)
	}
}
