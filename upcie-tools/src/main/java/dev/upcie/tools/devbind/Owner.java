package dev.upcie.tools.devbind;

import dev.upcie.host.Host;
import dev.upcie.pci.FunctionNode;
import dev.upcie.pci.FunctionNodes;
import dev.upcie.pci.PciAddress;
import dev.upcie.pci.PciBus;
import dev.upcie.support.UpcieException;
import dev.upcie.tools.UsageException;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.GroupPrincipal;
import java.nio.file.attribute.PosixFileAttributeView;
import java.nio.file.attribute.UserPrincipal;
import java.nio.file.attribute.UserPrincipalLookupService;
import java.nio.file.attribute.UserPrincipalNotFoundException;
import java.util.ArrayList;
import java.util.List;

/**
 * {@code --owner user[:group]}: hands a function's VFIO nodes to a user, so a driver can run
 * without root. Group and device nodes both ({@code /dev/vfio/N} or {@code noiommu-N}, and {@code
 * /dev/vfio/devices/vfioN} where the kernel has the cdev interface).
 *
 * @param user the user
 * @param group the group, or null to leave it
 */
record Owner(String user, String group) {

  /** Parses {@code user[:group]}. */
  static Owner parse(String text) {
    int colon = text.indexOf(':');
    String user = colon < 0 ? text : text.substring(0, colon);
    String group = colon < 0 ? null : text.substring(colon + 1);
    if (user.isEmpty() || (group != null && group.isEmpty())) {
      throw new UsageException("--owner " + text + ": expected user or user:group");
    }
    return new Owner(user, group);
  }

  /** The nodes of {@code address} this hands over: its VFIO group and device nodes. */
  static List<String> nodes(Host host, PciAddress address) {
    List<String> nodes = new ArrayList<>();
    for (FunctionNode node :
        FunctionNodes.of(host.sysfs(), new PciBus(host.sysfs()).function(address))) {
      if (node.kind() == FunctionNode.Kind.VFIO_GROUP
          || node.kind() == FunctionNode.Kind.VFIO_DEVICE) {
        nodes.add(node.name());
      }
    }
    return nodes;
  }

  /** {@code chown user:group NODE}, as the dry run prints it. */
  String command(String node) {
    return "chown " + user + (group == null ? "" : ":" + group) + " " + node;
  }

  /**
   * Checks that the user and group exist on {@code host}, before anything is moved: a name that
   * does not must cost the user nothing.
   *
   * @throws UsageException naming the one that does not exist
   */
  void requireExists(Host host) {
    UserPrincipalLookupService users = host.dev().getFileSystem().getUserPrincipalLookupService();
    // One lookup at a time: the exception's own name is empty on Linux, so it cannot say which.
    lookUp("user", user, () -> users.lookupPrincipalByName(user));
    if (group != null) {
      lookUp("group", group, () -> users.lookupPrincipalByGroupName(group));
    }
  }

  private interface Lookup {
    void run() throws IOException;
  }

  private void lookUp(String kind, String name, Lookup lookup) {
    try {
      lookup.run();
    } catch (UserPrincipalNotFoundException e) {
      throw new UsageException(
          "--owner "
              + user
              + (group == null ? "" : ":" + group)
              + ": no such "
              + kind
              + " "
              + name
              + " on this machine (getent passwd and getent group list them); nothing was moved");
    } catch (IOException e) {
      throw new UpcieException("cannot look up " + kind + " " + name + ": " + e.getMessage(), e);
    }
  }

  /** Gives {@code node} (a {@code /dev} path) to the user and group ({@link #requireExists}). */
  void apply(Host host, String node) {
    Path path = host.dev().resolve(node.substring("/dev/".length()));
    UserPrincipalLookupService users = path.getFileSystem().getUserPrincipalLookupService();
    try {
      UserPrincipal owner = users.lookupPrincipalByName(user);
      Files.setOwner(path, owner);
      if (group != null) {
        GroupPrincipal principal = users.lookupPrincipalByGroupName(group);
        Files.getFileAttributeView(path, PosixFileAttributeView.class).setGroup(principal);
      }
    } catch (IOException e) {
      throw new UpcieException(
          "cannot give "
              + path
              + " to "
              + user
              + ": "
              + e.getMessage()
              + "; the binding is made, and changing a node's owner needs root",
          e);
    }
  }
}
