// This file shows how tests, the demo and the benchmarks set up and serve the fakes.

package fakeidp_test

import (
	"fmt"
	"net/http"
	"strings"

	"reactivator/internal/fakeidp"
)

func ExampleNewStytch() {
	const org, member = "organization-test-00000000-0000-4000-8000-000000000001", "member-test-00000000-0000-4000-8000-000000000002"
	st := fakeidp.NewStytch("project-test-00000000-0000-4000-8000-000000000003", "secret-test-abc")
	st.AddOrg(org, "acme")
	st.AddMember(org, member, "deleted", true)
	base, stop := fakeidp.Serve(st)
	defer stop()

	req, _ := http.NewRequest(http.MethodPut, base+"/v1/b2b/organizations/acme/members/"+member+"/reactivate", strings.NewReader("{}"))
	req.SetBasicAuth("project-test-00000000-0000-4000-8000-000000000003", "secret-test-abc")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		fmt.Println(err)
		return
	}
	resp.Body.Close()
	fmt.Println(resp.StatusCode, st.Status(org, member), st.Calls(org+"/"+member))
	// Output: 200 active 1
}

func ExampleNewZitadel() {
	z := fakeidp.NewZitadel("127.0.0.1") // any port of 127.0.0.1, as Serve picks one
	z.AddToken("pat", "400907376431008806")
	z.AddUser("400907454377888806", "400907376431008806", "inactive")
	z.SetFaults(fakeidp.Faults{Rate5xx: 1}) // every call answers 503 code 14 and changes nothing
	base, stop := fakeidp.Serve(z)
	defer stop()

	reactivate := func() int {
		req, _ := http.NewRequest(http.MethodPost, base+"/v2/users/400907454377888806/reactivate", nil)
		req.Header.Set("Authorization", "Bearer pat")
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			return 0
		}
		resp.Body.Close()
		return resp.StatusCode
	}
	fmt.Println(reactivate(), z.State("400907454377888806"))
	z.SetFaults(fakeidp.Faults{})
	fmt.Println(reactivate(), z.State("400907454377888806"))
	fmt.Println(z.Calls("400907454377888806"), z.TotalCalls())
	// Output:
	// 503 inactive
	// 200 active
	// 2 2
}

func ExampleStytch_Script() {
	st := fakeidp.NewStytch("project-test-1", "secret")
	for _, c := range fakeidp.Cases {
		if c.Name == "stytch/organization_suspended" {
			st.Script("organization-test-1", "member-test-1", c)
		}
	}
	base, stop := fakeidp.Serve(st)
	defer stop()

	req, _ := http.NewRequest(http.MethodPut, base+"/v1/b2b/organizations/organization-test-1/members/member-test-1/reactivate", nil)
	req.SetBasicAuth("project-test-1", "secret")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		fmt.Println(err)
		return
	}
	resp.Body.Close()
	fmt.Println(resp.StatusCode)
	// Output: 403
}
