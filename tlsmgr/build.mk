# tlsmgr/build.mk - the keystore owner (not built yet)
