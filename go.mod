module github.com/cifsd/cifsd

go 1.26.8

require (
	github.com/hirochachacha/go-smb2 v1.1.0
	github.com/spf13/afero v1.15.0
	golang.org/x/crypto v0.59.0
	golang.org/x/sys v0.50.0
)

require (
	github.com/geoffgarside/ber v1.1.0 // indirect
	golang.org/x/text v0.44.0 // indirect
)
