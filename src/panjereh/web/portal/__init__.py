"""The citizen window: server-rendered pages, Persian (RTL) first, English second."""
