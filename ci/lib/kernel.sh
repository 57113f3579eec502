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

# upcie_backports_kernel   fetches the kernel of Debian 12's bookworm-backports (6.12) into a cache
#                          unless it is there, and prints its release; the tree is
#                          $UPCIE_KERNEL_CACHE/<release> (boot/vmlinuz-<release>,
#                          lib/modules/<release>), for the guests' upcie.qemu.kernel.root.
#
# The package is downloaded with apt in a private configuration (its own sources list, lists and
# archives under the cache) and unpacked with dpkg-deb -x: nothing is installed, /boot and
# /lib/modules stay as they are, and the host keeps booting guests on Debian's 6.1.
UPCIE_KERNEL_CACHE=${UPCIE_KERNEL_CACHE:-/var/cache/upcie/kernels}
UPCIE_BACKPORTS_MIRROR=${UPCIE_BACKPORTS_MIRROR:-http://deb.debian.org/debian}

# upcie_cached_backports_kernel   prints the release of the 6.12 kernel in the cache, if there is
#                                 one (fetches nothing)
upcie_cached_backports_kernel() {
  local release
  release=$(cd "$UPCIE_KERNEL_CACHE" 2>/dev/null && ls -d 6.12.* 2>/dev/null | sort -V | tail -1)
  [ -n "$release" ] && [ -f "$UPCIE_KERNEL_CACHE/$release/lib/modules/$release/modules.dep" ] || return 1
  echo "$release"
}

upcie_backports_kernel() {
  local cache=$UPCIE_KERNEL_CACHE apt="$UPCIE_KERNEL_CACHE/apt" depends package release tree deb
  mkdir -p "$apt/etc/sources.list.d" "$apt/etc/preferences.d" "$apt/state/lists/partial" \
    "$apt/cache/archives/partial" "$apt/download" || {
    echo "upcie: cannot create the kernel cache $cache; set UPCIE_KERNEL_CACHE to a writable directory" >&2
    return 1
  }
  echo "deb [signed-by=/usr/share/keyrings/debian-archive-keyring.gpg] $UPCIE_BACKPORTS_MIRROR bookworm-backports main" \
    > "$apt/etc/sources.list"
  touch "$apt/state/status"
  local options=(-o "Dir::Etc=$apt/etc" -o "Dir::State=$apt/state" -o "Dir::State::status=$apt/state/status"
    -o "Dir::Cache=$apt/cache" -o Debug::NoLocking=1 -o APT::Sandbox::User=root -q)
  if ! apt-get "${options[@]}" update >"$apt/update.log" 2>&1; then
    # Offline: a tree fetched before still serves.
    if release=$(upcie_cached_backports_kernel); then
      echo "upcie: cannot reach bookworm-backports ($apt/update.log); using the kernel fetched before, $release" >&2
      echo "$release"
      return 0
    fi
    echo "upcie: cannot read bookworm-backports' package list from $UPCIE_BACKPORTS_MIRROR:" >&2
    tail -5 "$apt/update.log" >&2
    return 1
  fi
  # The meta-package names the kernel: "linux-image-6.12.95+deb12-amd64 (= 6.12.95-1~bpo12+1)".
  depends=$(apt-cache "${options[@]}" show linux-image-amd64 | sed -n 's/^Depends: //p' | head -1)
  package=${depends%%[ ,]*}
  release=${package#linux-image-}
  case "$release" in
    6.12.*) ;;
    *)
      echo "upcie: bookworm-backports' linux-image-amd64 depends on '$package', not a 6.12 kernel; the nightly matrix expects 6.12 (update ci/lib/kernel.sh)" >&2
      return 1
      ;;
  esac
  tree="$cache/$release"
  if [ -f "$tree/lib/modules/$release/modules.dep" ]; then
    echo "$release"
    return 0
  fi
  echo "upcie: fetching $package from bookworm-backports into $tree" >&2
  rm -rf "$tree" "$tree.partial" "$apt/download"/*.deb
  (cd "$apt/download" && apt-get "${options[@]}" download "$package" >&2) || {
    echo "upcie: apt-get download $package failed" >&2
    return 1
  }
  deb=$(ls "$apt/download"/*.deb)
  # Unpacked beside the tree and moved in place at the end, so a broken fetch leaves no tree.
  dpkg-deb -x "$deb" "$tree.partial" &&
    depmod -b "$tree.partial" "$release" &&
    mv "$tree.partial" "$tree" || {
    echo "upcie: unpacking $deb into $tree failed" >&2
    return 1
  }
  rm -f "$deb"
  # Older backports kernels are not booted any more.
  (cd "$cache" && for old in 6.12.*; do [ "$old" = "$release" ] || rm -rf "$old"; done)
  echo "$release"
}
