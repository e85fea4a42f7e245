package scenario

import "testing"

// TestStackKinds: the stack key's values and the registry agree, and every
// stack can be called (it has a driver) and checked.
func TestStackKinds(t *testing.T) {
	if len(Stacks) != len(StackKinds) {
		t.Errorf("Stacks lists %d, the registry holds %d", len(Stacks), len(StackKinds))
	}
	for _, name := range Stacks {
		k, ok := StackKinds[name]
		if !ok || k.Driver == nil || k.check == nil {
			t.Errorf("stack %q: in the registry %v, with a driver and a check", name, ok)
		}
	}
}
