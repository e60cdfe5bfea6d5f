package wasmfile

import (
	"reflect"
	"testing"
)

func TestFunctions(t *testing.T) {
	typeSec := sec(SecType, vec([]byte{0x60, 0x00, 0x00}))
	imports := sec(SecImport, vec(
		cat(nm("env"), nm("f"), []byte{0x00, 0x00}),
		cat(nm("env"), nm("mem"), []byte{0x02, 0x01, 0x01, 0x02}),
		cat(nm("env"), nm("g"), []byte{0x03, 0x7f, 0x00}),
		cat(nm("env"), nm("h"), []byte{0x00, 0x00}),
	))
	funcs := sec(SecFunction, vec(u32(0), u32(0)))
	code := sec(SecCode, vec(cat(u32(2), []byte{0x00, 0x0b}), cat(u32(4), []byte{0x00, 0x01, 0x01, 0x0b})))
	names := sec(SecCustom, nm("name"),
		[]byte{0x00}, u32(2), nm("m"), // module name subsection, skipped
		[]byte{0x01}, u32(uint32(len(vec(cat(u32(0), nm("f")), cat(u32(3), nm("pkg.Fn")))))), vec(cat(u32(0), nm("f")), cat(u32(3), nm("pkg.Fn"))))
	tests := []struct {
		name string
		in   []byte
		want []Function
	}{
		{"named", modBytes(typeSec, imports, funcs, code, names),
			[]Function{{Index: 2, Name: "", Size: 3}, {Index: 3, Name: "pkg.Fn", Size: 5}}},
		{"without a name section", modBytes(typeSec, imports, funcs, code),
			[]Function{{Index: 2, Size: 3}, {Index: 3, Size: 5}}},
		{"no code", modBytes(typeSec), nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := Functions(tt.in)
			if err != nil {
				t.Fatal(err)
			}
			if !reflect.DeepEqual(got, tt.want) {
				t.Errorf("got %+v, want %+v", got, tt.want)
			}
		})
	}
	if _, err := Functions(modBytes(sec(SecCode, vec(cat(u32(9), []byte{0x00}))))); err == nil {
		t.Error("truncated code entry accepted")
	}
}
