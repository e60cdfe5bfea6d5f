package envoy

import "testing"

func TestWASISets(t *testing.T) {
	for _, tc := range []struct {
		profile string
		n       int
		has     []string
		hasNot  []string
	}{
		{Envoy132, 15, []string{"fd_write", "path_open"}, []string{"poll_oneoff", "sched_yield", "fd_fdstat_set_flags"}},
		{Envoy133, 18, []string{"poll_oneoff", "sched_yield", "fd_fdstat_set_flags"}, []string{"clock_res_get", "fd_filestat_get", "proc_raise"}},
		{EnvoyCurrent, 45, []string{"clock_res_get", "sock_accept", "fd_readdir"}, []string{"proc_raise"}},
		{FullWASI, 0, nil, []string{"fd_write"}},
	} {
		t.Run(tc.profile, func(t *testing.T) {
			names := map[string]bool{}
			for _, f := range WASIFuncs(tc.profile) {
				if f.Fn == nil {
					t.Fatalf("%s has no implementation", f.Name)
				}
				names[f.Name] = true
			}
			if len(names) != tc.n {
				t.Fatalf("%d functions, want %d", len(names), tc.n)
			}
			for _, n := range tc.has {
				if !names[n] {
					t.Errorf("missing %s", n)
				}
			}
			for _, n := range tc.hasNot {
				if names[n] {
					t.Errorf("unexpected %s", n)
				}
			}
		})
	}
}

func TestRestrictedAllowLists(t *testing.T) {
	for _, tc := range []struct {
		profile, name    string
		startup, inAlloc bool
	}{
		{Envoy132, "proxy_log", true, true},
		{Envoy132, "fd_fdstat_get", false, false}, // why Go modules trap in _initialize on ≤1.32
		{Envoy133, "fd_fdstat_get", true, false},
		{Envoy133, "poll_oneoff", false, false},
		{Envoy133, "clock_time_get", true, true},
		{Envoy133, "fd_write", true, true},
		{Envoy133, "sched_yield", false, false},
		{Envoy133, "proxy_get_property", false, false},
		{EnvoyCurrent, "poll_oneoff", true, true},
		{EnvoyCurrent, "proc_exit", false, false},
		{FullWASI, "proxy_get_property", true, true},
	} {
		if got := StartupAllowed(tc.profile, tc.name); got != tc.startup {
			t.Errorf("%s start-up %s = %v", tc.profile, tc.name, got)
		}
		if got := MallocAllowed(tc.profile, tc.name); got != tc.inAlloc {
			t.Errorf("%s malloc %s = %v", tc.profile, tc.name, got)
		}
	}
}
