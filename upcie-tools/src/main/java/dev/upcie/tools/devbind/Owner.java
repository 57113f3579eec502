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

  /** Gives {@code node} (a {@code /dev} path) to the user and group. */
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
    } catch (UserPrincipalNotFoundException e) {
      throw new UsageException(
          "--owner "
              + user
              + (group == null ? "" : ":" + group)
              + ": no such "
              + (e.getName().equals(user) ? "user " : "group ")
              + e.getName()
              + " on this machine; the binding is made, "
              + node
              + " keeps its owner");
    } catch (IOException e) {
      throw new UpcieException(
          "cannot give " + path + " to " + user + ": " + e.getMessage() + "; it needs root", e);
    }
  }
}
