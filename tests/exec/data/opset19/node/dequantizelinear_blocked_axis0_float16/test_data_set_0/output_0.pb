
ByJ0 ÅYIK¬LvJÀÍ!E^MÌ—Ì”NÐ@JÔ¿§È®Å¹JÅ=ÍFÁ¤LÍBaÀM