"""What only development and tests use: local stand-ins for the services Vaidya talks to.

`whatsapp_simulator/` is a local WhatsApp Cloud API (and the home of a Razorpay simulator to
come). This is a Django app installed only when `DEVTOOLS` is on (by default when `DEBUG` is;
the test settings turn it on): production settings leave it out, so its management commands do
not exist there. Nothing in the product apps imports it; it may import any of them.
"""
