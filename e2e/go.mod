module ktrail/e2e

go 1.26
