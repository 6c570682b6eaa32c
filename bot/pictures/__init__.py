"""Pictures the bot sends (PNG bytes). Drawing needs matplotlib, imported only when a picture is
drawn, so starting the bot never pays for it."""
