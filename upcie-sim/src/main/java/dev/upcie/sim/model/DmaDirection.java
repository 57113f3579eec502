package dev.upcie.sim.model;

/** Which way a device's DMA goes, seen from the device. */
public enum DmaDirection {
  /** The device reads host memory (a command, data to write to a disk). */
  READ,
  /** The device writes host memory (a completion, data read from a disk). */
  WRITE
}
