package scopedtoken

import "github.com/buger/jsonparser"

// parseUsers reads the "users" array of integer ids.
func parseUsers(raw []byte, typ jsonparser.ValueType) ([]int64, bool) {
	if typ != jsonparser.Array {
		return nil, false
	}
	users := []int64{}
	ok := true
	_, err := jsonparser.ArrayEach(raw, func(v []byte, t jsonparser.ValueType, _ int, _ error) {
		n, err := jsonparser.ParseInt(v)
		if t != jsonparser.Number || err != nil {
			ok = false
			return
		}
		users = append(users, n)
	})
	return users, ok && err == nil
}
