// Package testutil holds what hostd's own tests share: fixtures such as a
// data-plane socket pair, and the checks of what the environment must
// provide (node v20 for the differential tests). Only tests import it; a
// layering test keeps it so.
package testutil
