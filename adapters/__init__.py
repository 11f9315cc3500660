"""Platform adapters: translate platform events to `bot.model` and render replies back."""
