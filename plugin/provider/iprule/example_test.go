package iprule_test

import (
	"fmt"

	"github.com/tokengate/tokengate/plugin/provider/iprule"
)

// One trusted load balancer in front of the proxy: the client is the
// rightmost x-forwarded-for entry, whatever the client prepended.
func ExampleClientAddress() {
	xff := []string{"6.6.6.6, 203.0.113.9"} // "6.6.6.6" was sent by the client
	a, err := iprule.ClientAddress("10.0.0.5:41000", xff, 1)
	fmt.Println(a, err)

	_, err = iprule.ClientAddress("10.0.0.5:41000", nil, 1) // bypassed the balancer
	fmt.Println(err)
	// Output:
	// 203.0.113.9 <nil>
	// iprule: x-forwarded-for has fewer entries than the configured trusted hops
}
