module com.example.driver {
  requires dev.upcie.core;
}
