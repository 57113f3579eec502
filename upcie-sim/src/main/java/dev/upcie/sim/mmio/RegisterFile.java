package dev.upcie.sim.mmio;

import dev.upcie.mmio.Mmio;
import dev.upcie.register.Field;
import dev.upcie.register.Register;
import dev.upcie.sim.trace.Trace;
import dev.upcie.sim.trace.TraceEvent;
import java.util.ArrayList;
import java.util.List;
import java.util.Objects;

/**
 * A simulated BAR: registers with per-field access types, usable wherever a real BAR's {@link Mmio}
 * is.
 *
 * <p>Each register is declared with a core {@link Register}, a reset value and an access type
 * ({@link FieldAccess}), which single fields may override. A write is applied under the file's lock
 * (RW bits take the value, RW1C bits clear where it has ones, RW1S bits set there, the rest stay);
 * then the register's {@link WriteHook}, if any, runs on the writing thread with the lock released.
 * How accesses of the wrong width are handled is the device's {@link WidthRule}.
 *
 * <p>The device side reads and changes registers with {@link #value} and {@link #store}, which
 * ignore the host's access types (a device sets its own read-only status bits). Every access is
 * atomic with respect to the others, so a driver thread and a device thread may use one file at
 * once. Host accesses allocate nothing, and are recorded in the machine's {@link Trace} once the
 * file is attached to one.
 *
 * <pre>{@code
 * Register doorbell = new Register("SQ0TDBL", 0x1000, 4);
 * RegisterFile bar0 = RegisterFile.builder("BAR0", 0x4000)
 *     .register(NvmeRegisters.CAP, 0x004018200f0107ffL, FieldAccess.RO)
 *     .register(NvmeRegisters.CC, 0, FieldAccess.RW)
 *     .register(NvmeRegisters.CSTS, 0, FieldAccess.RO)
 *     .field(NvmeRegisters.CSTS_NSSRO, FieldAccess.RW1C)
 *     .register(doorbell, 0, FieldAccess.WO)
 *     .onWrite(doorbell, tail -> controller.submissionsUpTo(tail))
 *     .build();
 * }</pre>
 */
public final class RegisterFile implements Mmio {
  private final String name;
  private final long size;
  private final WidthRule widthRule;
  private final long unimplemented;
  private final long[] values;
  private final long[] resetValues;
  // Per 8-byte word, the bits of each kind of field; bits in none of them are RO or RsvdZ.
  private final long[] rw;
  private final long[] rw1c;
  private final long[] rw1s;
  // Bits that read as unimplemented space: write-only fields and undeclared bytes.
  private final long[] unread;
  // Per 4-byte slot, the register starting or continuing there, and its hook.
  private final Register[] registers;
  private final WriteHook[] hooks;
  private final long extent;
  private final long rangeFrom;
  private final long rangeTo;
  private final RangeWriteHook rangeHook;
  private volatile Trace trace;
  private volatile Object traceName;

  private RegisterFile(Builder b) {
    this.name = b.name;
    this.size = b.size;
    this.widthRule = b.widthRule;
    this.unimplemented = b.unimplemented;
    this.resetValues = b.reset.clone();
    this.values = b.reset.clone();
    this.rw = b.rw.clone();
    this.rw1c = b.rw1c.clone();
    this.rw1s = b.rw1s.clone();
    this.unread = b.unread.clone();
    this.registers = b.registers.clone();
    this.hooks = b.hooks.clone();
    this.extent = values.length * 8L;
    this.rangeFrom = b.rangeFrom;
    this.rangeTo = b.rangeTo;
    this.rangeHook = b.rangeHook;
    this.traceName = name;
  }

  /**
   * Starts a register file of {@code size} bytes (a multiple of 8).
   *
   * @param name what it is, for messages: {@code BAR0 of the simulated edu}
   */
  public static Builder builder(String name, long size) {
    return new Builder(name, size);
  }

  @Override
  public String name() {
    return name;
  }

  @Override
  public long size() {
    return size;
  }

  /** How accesses of the wrong width are handled. */
  public WidthRule widthRule() {
    return widthRule;
  }

  /**
   * Records host accesses in {@code trace} under {@code source} (what the trace calls this BAR);
   * what a simulated machine does when a model is attached.
   */
  public void traceTo(Trace trace, Object source) {
    this.traceName = Objects.requireNonNull(source, "source");
    this.trace = trace;
  }

  @Override
  public int getIntVolatile(long offset) {
    Mmio.checkAccess(name, size, offset, Integer.BYTES);
    return (int) read(offset, Integer.BYTES);
  }

  @Override
  public void putIntVolatile(long offset, int value) {
    Mmio.checkAccess(name, size, offset, Integer.BYTES);
    write(offset, Integer.BYTES, Integer.toUnsignedLong(value));
  }

  @Override
  public long getLongVolatile(long offset) {
    Mmio.checkAccess(name, size, offset, Long.BYTES);
    return read(offset, Long.BYTES);
  }

  @Override
  public void putLongVolatile(long offset, long value) {
    Mmio.checkAccess(name, size, offset, Long.BYTES);
    write(offset, Long.BYTES, value);
  }

  /** Device side: the register's value, whatever its access types. */
  public synchronized long value(Register register) {
    checkDeclared(register);
    return (values[word(register.offset())] >>> shift(register.offset())) & register.mask();
  }

  /** Device side: the field's value. */
  public long value(Field field) {
    return field.get(value(field.register()));
  }

  /** Device side: sets the register to {@code value}, whatever its access types. */
  public synchronized void store(Register register, long value) {
    checkDeclared(register);
    int word = word(register.offset());
    long mask = register.mask() << shift(register.offset());
    values[word] = (values[word] & ~mask) | ((value << shift(register.offset())) & mask);
  }

  /** Device side: sets the field to {@code value}, leaving the register's other bits. */
  public synchronized void store(Field field, long value) {
    Register register = field.register();
    store(register, field.set(value(register), value));
  }

  /** Puts every register back to its reset value. */
  public synchronized void reset() {
    System.arraycopy(resetValues, 0, values, 0, values.length);
  }

  @Override
  public String toString() {
    return "RegisterFile[" + name + ", 0x" + Long.toHexString(size) + " bytes]";
  }

  private long read(long offset, int width) {
    long result;
    boolean decoded = true;
    synchronized (this) {
      Register register = offset < extent ? registers[slot(offset)] : null;
      if (widthRule == WidthRule.DECLARED
          && (register == null || register.offset() != offset || width > register.width())) {
        decoded = false;
        result = unimplemented(width);
      } else if (offset >= extent) {
        result = unimplemented(width);
      } else {
        int word = word(offset);
        long stored = (values[word] & ~unread[word]) | (unimplemented & unread[word]);
        result = width == 8 ? stored : (stored >>> shift(offset)) & 0xffff_ffffL;
      }
    }
    Trace t = trace;
    if (t != null) {
      t.record(
          decoded ? TraceEvent.Kind.REGISTER_READ : TraceEvent.Kind.REGISTER_UNDECODED,
          traceName,
          offset,
          result,
          width);
    }
    return result;
  }

  private void write(long offset, int width, long value) {
    Register first;
    Register second = null;
    synchronized (this) {
      first = offset < extent ? registers[slot(offset)] : null;
      if (offset >= extent) {
        first = null;
      } else if (widthRule == WidthRule.DECLARED) {
        if (first == null || first.offset() != offset || width > first.width()) {
          first = null;
        } else {
          // A narrow write to a wide register sets it whole, zero-extended.
          apply(offset, first.width(), value);
        }
      } else {
        apply(offset, width, value);
        if (width == 8 && first != registers[slot(offset) + 1]) {
          second = registers[slot(offset) + 1];
        }
      }
    }
    Trace t = trace;
    if (t != null) {
      boolean decoded = widthRule == WidthRule.BYTES || first != null;
      t.record(
          decoded ? TraceEvent.Kind.REGISTER_WRITE : TraceEvent.Kind.REGISTER_UNDECODED,
          traceName,
          offset,
          value,
          width);
    }
    // Hooks run unlocked: a hook may take a device lock that a device thread holds while it
    // stores registers here.
    if (first != null) {
      hook(first, offset, value);
    }
    if (second != null) {
      hook(second, offset, value);
    }
    if (first == null && rangeHook != null && offset >= rangeFrom && offset < rangeTo) {
      rangeHook.written(offset, value, width);
    }
  }

  private void hook(Register register, long offset, long value) {
    WriteHook hook = hooks[slot(register.offset())];
    if (hook == null) {
      return;
    }
    // The bits of this access that fall in the register, in the register's positions.
    long shift = (offset - register.offset()) * 8;
    long bits = shift >= 0 ? value << shift : value >>> -shift;
    hook.written(bits & register.mask());
  }

  private void apply(long offset, int width, long value) {
    int word = word(offset);
    long mask = width == 8 ? -1L : 0xffff_ffffL << shift(offset);
    long bits = (width == 8 ? value : value << shift(offset)) & mask;
    long stored = values[word];
    stored = (stored & ~(rw[word] & mask)) | (bits & rw[word]);
    stored &= ~(bits & rw1c[word]);
    stored |= bits & rw1s[word];
    values[word] = stored;
  }

  private long unimplemented(int width) {
    return width == 8 ? unimplemented : unimplemented & 0xffff_ffffL;
  }

  private void checkDeclared(Register register) {
    if (register.offset() + register.width() > extent
        || !register.equals(registers[slot(register.offset())])) {
      throw new IllegalArgumentException(register + " is not a register of " + name);
    }
  }

  private static int word(long offset) {
    return (int) (offset >>> 3);
  }

  private static int slot(long offset) {
    return (int) (offset >>> 2);
  }

  private static int shift(long offset) {
    return (int) (offset & 7) * 8;
  }

  /** Declares the registers of a {@link RegisterFile}. */
  public static final class Builder {
    private final String name;
    private final long size;
    private final List<Register> declared = new ArrayList<>();
    // The registers by name and the 4-byte slots they take, so declaring stays linear: a device
    // such as NVMe declares a thousand doorbells.
    private final java.util.Set<Register> known = new java.util.HashSet<>();
    private final java.util.BitSet taken = new java.util.BitSet();
    private final List<Long> resetValues = new ArrayList<>();
    private final List<Field> fields = new ArrayList<>();
    private final List<FieldAccess> accesses = new ArrayList<>();
    private final java.util.Map<Register, WriteHook> writeHooks = new java.util.HashMap<>();
    private WidthRule widthRule = WidthRule.BYTES;
    private long unimplemented;
    private long rangeFrom;
    private long rangeTo;
    private RangeWriteHook rangeHook;
    // Filled by build(), for the constructor.
    private long[] reset;
    private long[] rw;
    private long[] rw1c;
    private long[] rw1s;
    private long[] unread;
    private Register[] registers;
    private WriteHook[] hooks;

    private Builder(String name, long size) {
      this.name = Objects.requireNonNull(name, "name");
      if (size <= 0 || size % 8 != 0 || size / 4 > Integer.MAX_VALUE) {
        throw new IllegalArgumentException("register file size must be a positive multiple of 8");
      }
      this.size = size;
    }

    /** How accesses of the wrong width are handled; {@link WidthRule#BYTES} unless set. */
    public Builder widthRule(WidthRule rule) {
      this.widthRule = Objects.requireNonNull(rule, "rule");
      return this;
    }

    /**
     * What undeclared space and write-only registers read as: 0 unless set; all ones ({@code -1})
     * for a device such as {@code edu} that returns all ones where it decodes nothing.
     */
    public Builder unimplementedReads(long pattern) {
      this.unimplemented = pattern;
      return this;
    }

    /**
     * Declares a 32 or 64-bit register, naturally aligned, with its reset value and the access type
     * of all its bits.
     *
     * @throws IllegalArgumentException if it is narrower than 32 bits, misaligned, outside the file
     *     or overlaps another
     */
    public Builder register(Register register, long resetValue, FieldAccess access) {
      if (register.width() != 4 && register.width() != 8) {
        throw new IllegalArgumentException(
            register + ": simulated registers are 32 or 64 bits wide");
      }
      Mmio.checkAccess(name, size, register.offset(), register.width());
      int first = (int) (register.offset() >>> 2);
      int slots = register.width() / 4;
      if (taken.nextSetBit(first) != -1 && taken.nextSetBit(first) < first + slots) {
        for (Register other : declared) {
          if (register.offset() < other.offset() + other.width()
              && other.offset() < register.offset() + register.width()) {
            throw new IllegalArgumentException(register + " overlaps " + other);
          }
        }
      }
      taken.set(first, first + slots);
      known.add(register);
      declared.add(register);
      resetValues.add(resetValue);
      fields.add(register.field("all", 0, register.width() * 8));
      accesses.add(access);
      return this;
    }

    /**
     * Gives the bits of {@code field} their own access type, overriding the register's.
     *
     * @throws IllegalArgumentException if the field's register is not declared yet
     */
    public Builder field(Field field, FieldAccess access) {
      if (!known.contains(field.register())) {
        throw new IllegalArgumentException(
            "declare " + field.register() + " before its field " + field.name());
      }
      fields.add(field);
      accesses.add(access);
      return this;
    }

    /**
     * Runs {@code hook} after each host write to {@code register}.
     *
     * @throws IllegalArgumentException if the register is not declared yet, or has a hook
     */
    public Builder onWrite(Register register, WriteHook hook) {
      if (!known.contains(register)) {
        throw new IllegalArgumentException("declare " + register + " before its write hook");
      }
      if (writeHooks.putIfAbsent(register, Objects.requireNonNull(hook, "hook")) != null) {
        throw new IllegalArgumentException(register + " already has a write hook");
      }
      return this;
    }

    /**
     * Runs {@code hook} after each host write at an offset from {@code from} up to {@code to} that
     * no declared register decodes. Reads there are unimplemented space. One range per file.
     *
     * @throws IllegalArgumentException if the range is empty, outside the file, or already set
     */
    public Builder onWrite(long from, long to, RangeWriteHook hook) {
      if (from < 0 || to <= from || to > size) {
        throw new IllegalArgumentException(
            "write range 0x"
                + Long.toHexString(from)
                + "-0x"
                + Long.toHexString(to)
                + " is not within "
                + name);
      }
      if (rangeHook != null) {
        throw new IllegalArgumentException(name + " already has a write range");
      }
      this.rangeFrom = from;
      this.rangeTo = to;
      this.rangeHook = Objects.requireNonNull(hook, "hook");
      return this;
    }

    /**
     * The register file, with every register at its reset value. Only the space up to the last
     * register is stored; past it, everything reads as unimplemented space.
     */
    public RegisterFile build() {
      long extent = 8;
      for (Register register : declared) {
        extent = Math.max(extent, (register.offset() + register.width() + 7) & -8L);
      }
      int words = (int) (extent / 8);
      reset = new long[words];
      rw = new long[words];
      rw1c = new long[words];
      rw1s = new long[words];
      unread = new long[words];
      java.util.Arrays.fill(unread, -1L);
      registers = new Register[words * 2];
      hooks = new WriteHook[words * 2];
      for (int i = 0; i < declared.size(); i++) {
        Register register = declared.get(i);
        int slot = (int) (register.offset() >>> 2);
        for (int j = 0; j < register.width() / 4; j++) {
          registers[slot + j] = register;
        }
        hooks[slot] = writeHooks.get(register);
        int word = (int) (register.offset() >>> 3);
        int shift = (int) (register.offset() & 7) * 8;
        reset[word] |= (resetValues.get(i) & register.mask()) << shift;
      }
      for (int i = 0; i < fields.size(); i++) {
        Field field = fields.get(i);
        Register register = field.register();
        int word = (int) (register.offset() >>> 3);
        int shift = (int) (register.offset() & 7) * 8;
        setAccess(word, field.mask() << shift, accesses.get(i));
      }
      return new RegisterFile(this);
    }

    private void setAccess(int word, long bits, FieldAccess access) {
      rw[word] &= ~bits;
      rw1c[word] &= ~bits;
      rw1s[word] &= ~bits;
      unread[word] &= ~bits;
      switch (access) {
        case RW -> rw[word] |= bits;
        case RW1C -> rw1c[word] |= bits;
        case RW1S -> rw1s[word] |= bits;
        case WO -> unread[word] |= bits;
        case RO, RSVDZ -> {}
      }
      if (access == FieldAccess.RSVDZ || access == FieldAccess.WO) {
        reset[word] &= ~bits;
      }
    }
  }
}
