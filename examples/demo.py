"""`make demo`: an agent end to end, offline. The code lives in harmony_agent/demo.py
(so `harmony-agent demo` runs it too); read it there."""

from harmony_agent.demo import main

if __name__ == "__main__":
    main()
