# Sourced by the project's scripts: finds a JDK 25 or newer and exports JAVA_HOME.
#
# Order: $JAVA_HOME if it is new enough, then every JDK under the standard JVM
# directories (newest first). The default `java` on Debian 12 is 17, so PATH alone
# is never trusted. Fails with a message that says what was found and what to do.

UPCIE_MIN_JAVA=25

# Sets upcie_feature to the feature version (e.g. 25) of the JDK at $1, or to nothing if it is
# not a JDK. Reads the release file with bash alone: ./upcie runs this on every command, and a
# fork (sed, or a $(...) around a function) costs more than the whole check.
upcie_jdk_feature_of() {
  local home=$1 version="" line
  upcie_feature=""
  [ -x "$home/bin/java" ] && [ -x "$home/bin/javac" ] || return 0
  if [ -r "$home/release" ]; then
    while IFS= read -r line; do
      case $line in
        JAVA_VERSION=*)
          version=${line#JAVA_VERSION=}
          version=${version//\"/}
          break
          ;;
      esac
    done <"$home/release"
  fi
  if [ -z "$version" ]; then
    version=$("$home/bin/java" -XshowSettings:properties -version 2>&1 |
      sed -n 's/^ *java\.specification\.version = //p')
  fi
  version=${version#1.}
  upcie_feature=${version%%[.+-]*}
}

# Prints the feature version (e.g. 25) of the JDK at $1, or nothing if it is not a JDK.
upcie_jdk_feature() {
  local upcie_feature
  upcie_jdk_feature_of "$1"
  echo "$upcie_feature"
}

upcie_find_jdk() {
  local candidate feature best="" best_feature=0 seen="" upcie_feature
  if [ -n "${JAVA_HOME:-}" ]; then
    upcie_jdk_feature_of "$JAVA_HOME"
    feature=$upcie_feature
    if [ -n "$feature" ] && [ "$feature" -ge "$UPCIE_MIN_JAVA" ]; then
      export JAVA_HOME
      return 0
    fi
    seen="$seen  JAVA_HOME=$JAVA_HOME (version ${feature:-unknown})\n"
  fi
  local dir
  # UPCIE_JVM_DIRS lets a test point the search elsewhere.
  for dir in ${UPCIE_JVM_DIRS:-/usr/lib/jvm /usr/java /opt/java}; do
    for candidate in "$dir"/*; do
      [ -d "$candidate" ] && [ ! -L "$candidate" ] || continue
      upcie_jdk_feature_of "$candidate"
      feature=$upcie_feature
      [ -n "$feature" ] || continue
      seen="$seen  $candidate (version $feature)\n"
      if [ "$feature" -ge "$UPCIE_MIN_JAVA" ] && [ "$feature" -gt "$best_feature" ]; then
        best=$candidate
        best_feature=$feature
      fi
    done
  done
  if [ -z "$best" ]; then
    {
      echo "upcie: no JDK $UPCIE_MIN_JAVA or newer found."
      [ -n "$seen" ] && printf "Found:\n$seen"
      echo "Install one (for example Temurin 25 under /usr/lib/jvm) or set JAVA_HOME to it."
    } >&2
    return 1
  fi
  export JAVA_HOME=$best
}
