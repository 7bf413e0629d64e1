"""Simulated Ministry of Science, Research and Technology (وزارت علوم، تحقیقات و فناوری)."""
