# Sourced by the project's scripts: the guest kernels the QEMU tests boot.
#
# upcie_debian_kernel   prints the release of the kernel Debian 12's linux-image-amd64 depends on
#                       (e.g. 6.1.0-57-amd64): the kernel ci/run pins, so that another kernel
#                       installed beside it never silently changes what CI tests.

upcie_debian_kernel() {
  local depends package release
  if ! depends=$(dpkg-query -W -f='${Depends}' linux-image-amd64 2>/dev/null) || [ -z "$depends" ]; then
    echo "upcie: Debian's linux-image-amd64 is not installed, so there is no kernel to pin for the QEMU guests; ci/setup installs it" >&2
    return 1
  fi
  # "linux-image-6.1.0-57-amd64 (= 6.1.192-3)": the first dependency, without its version.
  package=${depends%%[ ,]*}
  release=${package#linux-image-}
  if [ "$release" = "$package" ] || [ ! -r "/boot/vmlinuz-$release" ] || [ ! -f "/lib/modules/$release/modules.dep" ]; then
    echo "upcie: linux-image-amd64 depends on '$package', but /boot/vmlinuz-$release or /lib/modules/$release/modules.dep is missing; reinstall it: apt-get install --reinstall $package" >&2
    return 1
  fi
  echo "$release"
}
