package ratelimit_test

import (
	"fmt"

	"github.com/tokengate/tokengate/plugin/provider"
	"github.com/tokengate/tokengate/plugin/ratelimit"
)

// Two VMs of one proxy share a bucket of 2 requests refilled at one per
// second. (In the plugin the store is shared.Data, proxy-wasm shared data.)
func ExampleLimiter_Take() {
	store := &provider.MemSharedData{}
	vm1, vm2 := ratelimit.New(store, "api"), ratelimit.New(store, "api")
	lim := ratelimit.Limit{PerSecond: 1, Burst: 2}
	now := int64(1795392000) * 1e9

	fmt.Println(vm1.Take("subject:ci", lim, now))
	fmt.Println(vm2.Take("subject:ci", lim, now))
	fmt.Println(vm1.Take("subject:ci", lim, now))
	fmt.Println(vm2.Take("subject:ci", lim, now+1e9))
	// Output:
	// true 0
	// true 0
	// false 1
	// true 0
}
